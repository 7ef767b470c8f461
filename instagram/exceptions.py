from rest_framework import status

from common.exceptions import DomainError


class InvalidUsername(DomainError):
    code = "invalid_username"
    detail = "This is not a valid Instagram username."


class ProfileNotFoundError(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "profile_not_found"
    detail = "No Instagram profile with this username."


class UpstreamFailed(DomainError):
    status_code = status.HTTP_502_BAD_GATEWAY
    code = "upstream_error"
    detail = "The Instagram data provider failed. Nothing was charged; please try again."


class UpstreamTimedOut(DomainError):
    status_code = status.HTTP_504_GATEWAY_TIMEOUT
    code = "upstream_timeout"
    detail = "The Instagram data provider did not answer in time. Nothing was charged; please try again."
