from conftest import make_app


async def test_opens_into_inbox() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        print(app.screen)
        app.save_screenshot("/tmp/smoke.svg")
