"""The WeChat official account channel (公众号): rendering, limits, client, publishing, sandbox.

Import the parts from their modules (`publisher.channels.wechat.adapter.WechatAdapter`, ...); this
package module stays empty so `publisher.channels.checks` can import the limits without a cycle.
"""
