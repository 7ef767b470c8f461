"""simplejwt's authentication, with the user's team membership read in the same statement."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication


class _UsersWithMembership:
    """What simplejwt's `get_user` asks of its `user_model` (`objects.get`, `DoesNotExist`), the users
    read with their membership: the wallet a request spends from is then known without a query."""

    def __init__(self, model):
        self.objects = model.objects.select_related("membership")
        self.DoesNotExist = model.DoesNotExist


class JWTAuthenticationWithTeam(JWTAuthentication):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user_model = _UsersWithMembership(self.user_model)


class JWTWithTeamScheme(SimpleJWTScheme):
    """The OpenAPI description of the class above: simplejwt's bearer scheme, unchanged."""

    target_class = "wallets.authentication.JWTAuthenticationWithTeam"
