"""OpenAPI extensions (imported from PhotosConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class QueryParamJWTScheme(OpenApiAuthenticationExtension):
    target_class = "photos.authentication.QueryParamJWTAuthentication"
    name = "accessTokenQuery"

    def get_security_definition(self, auto_schema):  # type: ignore[no-untyped-def]
        return {"type": "apiKey", "in": "query", "name": "access_token"}
