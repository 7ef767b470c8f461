from django.urls import re_path


def route(path: str, view, name: str):
    """A URL that answers with and without its trailing slash (the frontend calls both).

    `path` is a regex body without anchors or the trailing slash, e.g. r"pricing/(?P<action_type>[-\\w]+)".
    """
    return re_path(rf"^{path}/?$", view, name=name)
