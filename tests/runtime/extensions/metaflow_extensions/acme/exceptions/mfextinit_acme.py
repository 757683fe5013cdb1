from core_runtime.exception import MetaflowException


class AcmeQuotaExceeded(MetaflowException):
    headline = "Acme quota exceeded"
