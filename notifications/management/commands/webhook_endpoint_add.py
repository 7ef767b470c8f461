from django.core.management.base import BaseCommand, CommandError

from notifications.endpoints import InvalidEndpoint, endpoint_create


class Command(BaseCommand):
    help = "Add a webhook endpoint; prints its signing secret (whsec_...) as the last line, once."

    def add_arguments(self, parser):
        parser.add_argument("url")
        parser.add_argument("--events", default="", help="Comma-separated event types (default: all).")
        parser.add_argument("--description", default="")

    def handle(self, *args, url, events, description, **options):
        try:
            endpoint = endpoint_create(url=url, event_types=events, description=description)
        except InvalidEndpoint as error:
            raise CommandError(error.detail) from None
        self.stdout.write(f"Endpoint {endpoint.pk}: {endpoint.url} ({', '.join(endpoint.event_types) or 'all events'})")
        self.stdout.write("Signing secret (shown once; verify with the standardwebhooks package):")
        self.stdout.write(endpoint.secret)
