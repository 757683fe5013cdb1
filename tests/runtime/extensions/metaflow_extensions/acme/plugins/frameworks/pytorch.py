from core_runtime.plugins.frameworks._orig.pytorch import PytorchParallelDecorator


class AcmePytorchParallelDecorator(PytorchParallelDecorator):
    pass
