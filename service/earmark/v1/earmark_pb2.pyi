import datetime

from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Product(_message.Message):
    __slots__ = ("id", "specs")
    ID_FIELD_NUMBER: _ClassVar[int]
    SPECS_FIELD_NUMBER: _ClassVar[int]
    id: str
    specs: _struct_pb2.Struct
    def __init__(self, id: _Optional[str] = ..., specs: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class EvaluateRequest(_message.Message):
    __slots__ = ("product", "shopper", "trace", "locale", "strict", "read_mask")
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    SHOPPER_FIELD_NUMBER: _ClassVar[int]
    TRACE_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    STRICT_FIELD_NUMBER: _ClassVar[int]
    READ_MASK_FIELD_NUMBER: _ClassVar[int]
    product: Product
    shopper: _struct_pb2.Struct
    trace: bool
    locale: str
    strict: bool
    read_mask: _field_mask_pb2.FieldMask
    def __init__(self, product: _Optional[_Union[Product, _Mapping]] = ..., shopper: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., trace: _Optional[bool] = ..., locale: _Optional[str] = ..., strict: _Optional[bool] = ..., read_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class EvaluateResponse(_message.Message):
    __slots__ = ("verdict",)
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    verdict: Verdict
    def __init__(self, verdict: _Optional[_Union[Verdict, _Mapping]] = ...) -> None: ...

class Verdict(_message.Message):
    __slots__ = ("product_id", "category", "label", "scores", "explanation", "fit", "ruleset_version", "trace", "warnings")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    FIT_FIELD_NUMBER: _ClassVar[int]
    RULESET_VERSION_FIELD_NUMBER: _ClassVar[int]
    TRACE_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    category: str
    label: str
    scores: _containers.RepeatedCompositeFieldContainer[UseCaseScore]
    explanation: str
    fit: Fit
    ruleset_version: str
    trace: _containers.RepeatedCompositeFieldContainer[RuleHit]
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, product_id: _Optional[str] = ..., category: _Optional[str] = ..., label: _Optional[str] = ..., scores: _Optional[_Iterable[_Union[UseCaseScore, _Mapping]]] = ..., explanation: _Optional[str] = ..., fit: _Optional[_Union[Fit, _Mapping]] = ..., ruleset_version: _Optional[str] = ..., trace: _Optional[_Iterable[_Union[RuleHit, _Mapping]]] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...

class UseCaseScore(_message.Message):
    __slots__ = ("use_case", "title", "score", "explanation")
    USE_CASE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    use_case: str
    title: str
    score: int
    explanation: str
    def __init__(self, use_case: _Optional[str] = ..., title: _Optional[str] = ..., score: _Optional[int] = ..., explanation: _Optional[str] = ...) -> None: ...

class Fit(_message.Message):
    __slots__ = ("score", "explanation")
    SCORE_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    score: int
    explanation: str
    def __init__(self, score: _Optional[int] = ..., explanation: _Optional[str] = ...) -> None: ...

class RuleHit(_message.Message):
    __slots__ = ("rule_id", "effect", "use_case", "amount", "fragment")
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    EFFECT_FIELD_NUMBER: _ClassVar[int]
    USE_CASE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    FRAGMENT_FIELD_NUMBER: _ClassVar[int]
    rule_id: str
    effect: str
    use_case: str
    amount: int
    fragment: str
    def __init__(self, rule_id: _Optional[str] = ..., effect: _Optional[str] = ..., use_case: _Optional[str] = ..., amount: _Optional[int] = ..., fragment: _Optional[str] = ...) -> None: ...

class EvaluateBatchRequest(_message.Message):
    __slots__ = ("products", "shopper", "trace", "locale", "strict", "read_mask")
    PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    SHOPPER_FIELD_NUMBER: _ClassVar[int]
    TRACE_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    STRICT_FIELD_NUMBER: _ClassVar[int]
    READ_MASK_FIELD_NUMBER: _ClassVar[int]
    products: _containers.RepeatedCompositeFieldContainer[Product]
    shopper: _struct_pb2.Struct
    trace: bool
    locale: str
    strict: bool
    read_mask: _field_mask_pb2.FieldMask
    def __init__(self, products: _Optional[_Iterable[_Union[Product, _Mapping]]] = ..., shopper: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., trace: _Optional[bool] = ..., locale: _Optional[str] = ..., strict: _Optional[bool] = ..., read_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class EvaluateBatchResponse(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[BatchItem]
    def __init__(self, items: _Optional[_Iterable[_Union[BatchItem, _Mapping]]] = ...) -> None: ...

class BatchItem(_message.Message):
    __slots__ = ("product_id", "verdict", "error")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    verdict: Verdict
    error: Error
    def __init__(self, product_id: _Optional[str] = ..., verdict: _Optional[_Union[Verdict, _Mapping]] = ..., error: _Optional[_Union[Error, _Mapping]] = ...) -> None: ...

class Error(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class DescribeRulesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DescribeRulesResponse(_message.Message):
    __slots__ = ("ruleset_version", "pack", "categories", "use_cases", "specs", "shopper", "rule_count", "loaded_at", "max_batch_size", "last_reload_at", "last_reload_error", "reloads_succeeded", "reloads_failed", "locales", "watching", "watch_problem", "watch_stopped_at", "contract_changes")
    RULESET_VERSION_FIELD_NUMBER: _ClassVar[int]
    PACK_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    USE_CASES_FIELD_NUMBER: _ClassVar[int]
    SPECS_FIELD_NUMBER: _ClassVar[int]
    SHOPPER_FIELD_NUMBER: _ClassVar[int]
    RULE_COUNT_FIELD_NUMBER: _ClassVar[int]
    LOADED_AT_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    LAST_RELOAD_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_RELOAD_ERROR_FIELD_NUMBER: _ClassVar[int]
    RELOADS_SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    RELOADS_FAILED_FIELD_NUMBER: _ClassVar[int]
    LOCALES_FIELD_NUMBER: _ClassVar[int]
    WATCHING_FIELD_NUMBER: _ClassVar[int]
    WATCH_PROBLEM_FIELD_NUMBER: _ClassVar[int]
    WATCH_STOPPED_AT_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_CHANGES_FIELD_NUMBER: _ClassVar[int]
    ruleset_version: str
    pack: str
    categories: _containers.RepeatedCompositeFieldContainer[Category]
    use_cases: _containers.RepeatedCompositeFieldContainer[UseCase]
    specs: _containers.RepeatedCompositeFieldContainer[Attribute]
    shopper: _containers.RepeatedCompositeFieldContainer[Attribute]
    rule_count: int
    loaded_at: _timestamp_pb2.Timestamp
    max_batch_size: int
    last_reload_at: _timestamp_pb2.Timestamp
    last_reload_error: str
    reloads_succeeded: int
    reloads_failed: int
    locales: _containers.RepeatedScalarFieldContainer[str]
    watching: bool
    watch_problem: str
    watch_stopped_at: _timestamp_pb2.Timestamp
    contract_changes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ruleset_version: _Optional[str] = ..., pack: _Optional[str] = ..., categories: _Optional[_Iterable[_Union[Category, _Mapping]]] = ..., use_cases: _Optional[_Iterable[_Union[UseCase, _Mapping]]] = ..., specs: _Optional[_Iterable[_Union[Attribute, _Mapping]]] = ..., shopper: _Optional[_Iterable[_Union[Attribute, _Mapping]]] = ..., rule_count: _Optional[int] = ..., loaded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., max_batch_size: _Optional[int] = ..., last_reload_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_reload_error: _Optional[str] = ..., reloads_succeeded: _Optional[int] = ..., reloads_failed: _Optional[int] = ..., locales: _Optional[_Iterable[str]] = ..., watching: _Optional[bool] = ..., watch_problem: _Optional[str] = ..., watch_stopped_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., contract_changes: _Optional[_Iterable[str]] = ...) -> None: ...

class Category(_message.Message):
    __slots__ = ("id", "title")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ...) -> None: ...

class UseCase(_message.Message):
    __slots__ = ("id", "title")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ...) -> None: ...

class Attribute(_message.Message):
    __slots__ = ("name", "type", "description", "allowed_values", "minimum", "maximum")
    class Type(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        TYPE_UNSPECIFIED: _ClassVar[Attribute.Type]
        NUMBER: _ClassVar[Attribute.Type]
        BOOL: _ClassVar[Attribute.Type]
        TEXT: _ClassVar[Attribute.Type]
        ENUM: _ClassVar[Attribute.Type]
        ENUM_LIST: _ClassVar[Attribute.Type]
        TEXT_LIST: _ClassVar[Attribute.Type]
    TYPE_UNSPECIFIED: Attribute.Type
    NUMBER: Attribute.Type
    BOOL: Attribute.Type
    TEXT: Attribute.Type
    ENUM: Attribute.Type
    ENUM_LIST: Attribute.Type
    TEXT_LIST: Attribute.Type
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_VALUES_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_FIELD_NUMBER: _ClassVar[int]
    MAXIMUM_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: Attribute.Type
    description: str
    allowed_values: _containers.RepeatedScalarFieldContainer[str]
    minimum: float
    maximum: float
    def __init__(self, name: _Optional[str] = ..., type: _Optional[_Union[Attribute.Type, str]] = ..., description: _Optional[str] = ..., allowed_values: _Optional[_Iterable[str]] = ..., minimum: _Optional[float] = ..., maximum: _Optional[float] = ...) -> None: ...
