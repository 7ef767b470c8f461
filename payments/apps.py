from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self):
        from wallets.recharge_signal import recharge_started

        from .tasks import recharge_queue

        recharge_started.connect(recharge_queue, dispatch_uid="payments.recharge_queue")
