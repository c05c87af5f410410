from djangorestframework_camel_case.parser import CamelCaseJSONParser as _Parser


class CamelCaseJSONParser(_Parser):
    """The one JSON parser of the API: camelCase request keys in as snake_case."""
