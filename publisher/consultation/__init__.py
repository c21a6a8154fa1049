"""Public consultation (征求意见) on draft regulations: comments received on the portal or gathered
offline, handled by staff, answered in a feedback report (采纳情况说明)."""
