"""JSON bodies parsed inside API handlers, after the access check, so that a request aimed at
another enterprise's object gets 404 whatever it sends, never a 422 that confirms the route.
Errors come back in the API's 422 shape, with Chinese messages."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import BaseModel as PydanticModel
from pydantic import ValidationError as PydanticValidationError

SchemaT = TypeVar("SchemaT", bound=PydanticModel)


def fail(errors: list[dict[str, str]]) -> NinjaValidationError:
    return NinjaValidationError([{"loc": [e["field"]], "msg": e["message"]} for e in errors])


# Bodies are parsed inside the handlers, after the access check: an enterprise user probing
# another enterprise gets 404 whatever they send, never a 422 that confirms the route took aim.
_PYDANTIC_MESSAGES = {
    "missing": _("请填写此项"),
    "date_from_datetime_parsing": _("不是有效日期,格式如 2019-12-31"),
    "date_parsing": _("不是有效日期,格式如 2019-12-31"),
    "date_type": _("不是有效日期,格式如 2019-12-31"),
    "decimal_parsing": _("应为数字"),
    "decimal_type": _("应为数字"),
    "int_parsing": _("应为整数"),
    "int_type": _("应为整数"),
    "bool_parsing": _("应为 true 或 false"),
    "bool_type": _("应为 true 或 false"),
    "string_type": _("应为文本"),
    "list_type": _("应为列表"),
}


def body_schema(schema: type[PydanticModel]) -> dict[str, Any]:
    """OpenAPI description of a JSON body the handler parses itself (see parse_body)."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema.model_json_schema()}},
        }
    }


def parse_body(request: HttpRequest, schema: type[SchemaT]) -> SchemaT:
    try:
        raw = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise fail([{"field": "__all__", "message": str(_("请求体不是有效的JSON"))}]) from exc
    if not isinstance(raw, dict):
        raise fail([{"field": "__all__", "message": str(_("请求体应为JSON对象"))}])
    try:
        return schema.model_validate(raw)
    except PydanticValidationError as exc:
        errors: list[dict[str, str]] = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err.get("loc", ())) or "__all__"
            kind = err.get("type", "")
            message = _PYDANTIC_MESSAGES.get(kind)
            if message is None and kind == "literal_error":
                message = str(_("取值无效:")) + err.get("msg", "")
            errors.append({"field": field, "message": str(message or err.get("msg", ""))})
        raise fail(errors) from exc


def service_error_body(exc: DjangoValidationError) -> dict[str, Any]:
    """A service's refusal as the API's 422 body: one entry per field and message."""
    fields: list[dict[str, str]] = []
    if hasattr(exc, "error_dict"):
        for name, items in exc.error_dict.items():
            field = "__all__" if name == NON_FIELD_ERRORS else name
            for item in items:
                fields.extend({"field": field, "message": m} for m in item.messages)
    else:
        fields = [{"field": "__all__", "message": m} for m in exc.messages]
    return {"detail": str(_("输入有误")), "errors": fields}
