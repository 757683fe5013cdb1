from aiohttp import web


def install_live(app: web.Application) -> None:
    pass
