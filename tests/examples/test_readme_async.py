"""README: waiting inside a coroutine without blocking the app on the same loop."""

import asyncio

import aiosmtplib


async def notify(host, port):
    await asyncio.sleep(0.1)  # the app sends a little later, on the same event loop
    await aiosmtplib.send("Subject: Order shipped\r\n\r\nOn its way.\r\n",
                          sender="shop@app.example", recipients=["ada@example.com"],
                          hostname=host, port=port)  # fmt: skip


def test_order_shipped_mail(smtp_sink):
    async def scenario():
        sending = asyncio.create_task(notify(smtp_sink.host, smtp_sink.port))
        message = await smtp_sink.wait_for_async(to="ada@example.com")
        await sending
        return message

    assert asyncio.run(scenario()).subject == "Order shipped"
