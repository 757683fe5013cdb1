"""Metaflow's data tools for flows: ``S3`` and what it returns (``metaflow.datatools``)."""

from core_runtime.datatools.s3 import S3
from core_runtime.datatools.s3_object import (
    MetaflowS3AccessDenied,
    MetaflowS3Exception,
    MetaflowS3InsufficientDiskSpace,
    MetaflowS3InvalidObject,
    MetaflowS3InvalidRange,
    MetaflowS3NotFound,
    MetaflowS3URLException,
    RangeInfo,
    S3GetObject,
    S3Object,
    S3PutObject,
)

__all__ = [
    "S3",
    "MetaflowS3AccessDenied",
    "MetaflowS3Exception",
    "MetaflowS3InsufficientDiskSpace",
    "MetaflowS3InvalidObject",
    "MetaflowS3InvalidRange",
    "MetaflowS3NotFound",
    "MetaflowS3URLException",
    "RangeInfo",
    "S3GetObject",
    "S3Object",
    "S3PutObject",
]
