"""The customer credits page. It is a shell: the page itself talks only to the public REST API
(JWT), through the web components in static/webapp/credits-components.js (built from frontend/)."""

from django.views.generic import TemplateView


class CreditsPage(TemplateView):
    template_name = "webapp/app.html"
    extra_context = {"api_base": "/api/v1"}
