"""The delivery contract: what the engine and every channel kind agree on, owned by neither.

The engine imports it to drive channels; each channel kind imports it to be driven. Nothing in
here imports the engine or a channel, so either side can change without the other.

- `contract`: the Receipt the engine records, the error taxonomy, the Performer protocols;
- `states`: a delivery's states and the one table of transitions between them;
- `kinds`: the registry of channel kinds, read from the `publisher.channel_kinds` entry points.
"""

from publisher.delivery.contract import (
    BundlingPerformer,
    DeliveryError,
    GroupLedger,
    Ledger,
    ParallelPerformer,
    Performer,
    PerformerFactory,
    Permanent,
    Receipt,
    Transient,
    Unknown,
)
from publisher.delivery.kinds import ChannelKind, channel_kind, channel_kinds
from publisher.delivery.states import DeliveryAction, DeliveryState, IllegalTransition, Step

__all__ = [
    "BundlingPerformer",
    "ChannelKind",
    "DeliveryAction",
    "DeliveryError",
    "DeliveryState",
    "GroupLedger",
    "IllegalTransition",
    "Ledger",
    "ParallelPerformer",
    "Performer",
    "PerformerFactory",
    "Permanent",
    "Receipt",
    "Step",
    "Transient",
    "Unknown",
    "channel_kind",
    "channel_kinds",
]
