from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-credits-2026"


class Command(BaseCommand):
    help = "Create the demo user (with a wallet) for local use and print its credentials."

    def handle(self, *args, **options):
        User = get_user_model()
        user = User.objects.filter(username=DEMO_USERNAME).first()
        if user is None:
            user = User.objects.create_user(DEMO_USERNAME, "demo@example.com", DEMO_PASSWORD)
        self.stdout.write(f"Demo user: username={DEMO_USERNAME} password={DEMO_PASSWORD}")
