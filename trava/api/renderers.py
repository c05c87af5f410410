from djangorestframework_camel_case.render import CamelCaseJSONRenderer as _Renderer


class CamelCaseJSONRenderer(_Renderer):
    """The one JSON renderer of the API: snake_case serializer fields out as camelCase."""

    charset = "utf-8"
