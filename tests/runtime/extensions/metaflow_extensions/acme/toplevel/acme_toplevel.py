ACME_VERSION = "1.4"


def acme_greeting(name: str) -> str:
    return f"hello {name} from acme"
