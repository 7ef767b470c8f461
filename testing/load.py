"""Load for fault tests: clients that buy distinct resources over real HTTP, as a careful frontend
would (an Idempotency-Key per purchase, retried after no answer, a 503 or a 504), recording
every attempt so a test can compare what the clients saw with what the ledger says."""

import collections
import itertools
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx

def demo_profiles() -> list[str]:
    from instagram.providers.demo import catalogue

    return sorted(catalogue())

PAID_ACTIONS = {"ai-insights": ("ai_insights", 20), "posts": ("profile_posts", 10)}  # no free allowance
RETRYABLE = {502, 503, 504}


@dataclass
class Purchase:
    user_id: int
    token: str
    username: str
    view: str
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    outcome: int | None = None  # the final status, None if it never got one
    charged: int = 0  # X-Credits-Charged of the final 200

    @property
    def path(self) -> str:
        return f"/api/v1/profile/{self.username}/{self.view}"


@dataclass
class LoadReport:
    attempts: collections.Counter = field(default_factory=collections.Counter)  # status or "no answer"
    purchases: list = field(default_factory=list)
    first_success_after: dict = field(default_factory=dict)  # label -> monotonic time
    latencies: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, status, latency: float) -> None:
        with self.lock:
            self.attempts[status] += 1
            self.latencies.append(latency)

    def summary(self) -> dict:
        done = [p for p in self.purchases if p.outcome is not None]
        return {
            "attempts": sum(self.attempts.values()),
            "answers_by_status": {str(k): v for k, v in sorted(self.attempts.items(), key=str)},
            "purchases": len(self.purchases),
            "purchases_served": sum(1 for p in done if p.outcome == 200),
            "credits_charged_by_headers": sum(p.charged for p in done),
            "max_latency_s": round(max(self.latencies, default=0), 2),
        }


def purchases_for(users: list[tuple[int, str]], *, per_user: int = 30) -> list[Purchase]:
    """`per_user` distinct resources per user (the demo catalogue x the two paid views: up to 70),
    so each is charged once at most and any second charge shows."""
    resources = list(itertools.islice(itertools.product(demo_profiles(), PAID_ACTIONS), per_user))
    return [Purchase(user_id, token, username, view) for user_id, token in users for username, view in resources]


def run_load(base_url: str, purchases: list[Purchase], *, clients: int = 12, retry_for: float = 30.0,
             stop: threading.Event | None = None, report: LoadReport | None = None) -> LoadReport:
    """Each purchase is tried until it gets a final answer (not a 502/503/504, not silence) or
    `retry_for` seconds pass; same Idempotency-Key on every try."""
    report = report or LoadReport()
    report.purchases = purchases
    work: queue.Queue = queue.Queue()
    for purchase in purchases:
        work.put(purchase)

    def client_loop():
        with httpx.Client(base_url=base_url, timeout=httpx.Timeout(15.0, connect=2.0)) as http:
            while True:
                try:
                    purchase = work.get_nowait()
                except queue.Empty:
                    return
                deadline = time.monotonic() + retry_for
                while time.monotonic() < deadline:
                    started = time.monotonic()
                    headers = {"Authorization": f"Bearer {purchase.token}", "Idempotency-Key": purchase.key}
                    try:
                        answer = http.get(purchase.path, headers=headers)
                    except httpx.HTTPError:
                        report.record("no answer", time.monotonic() - started)
                        time.sleep(0.1)
                        continue
                    report.record(answer.status_code, time.monotonic() - started)
                    if answer.status_code in RETRYABLE:
                        time.sleep(0.1)
                        continue
                    purchase.outcome = answer.status_code
                    if answer.status_code == 200:
                        purchase.charged = int(answer.headers.get("X-Credits-Charged", "0"))
                        with report.lock:
                            report.first_success_after.setdefault("any", time.monotonic())
                    break

    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return report


class Prober:
    """Polls one cheap authenticated read every `interval` s, recording (time, status)."""

    def __init__(self, base_url: str, token: str, path: str = "/api/v1/api/credits/balance", interval: float = 0.05):
        self.base_url, self.token, self.path, self.interval = base_url, token, path, interval
        self.samples: list[tuple[float, object]] = []  # (when the answer came, status)
        self.timed_samples: list[tuple[float, float, object]] = []  # (sent, answered, status)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        with httpx.Client(base_url=self.base_url, timeout=httpx.Timeout(5.0, connect=1.0)) as http:
            while not self._stop.is_set():
                sent = time.monotonic()
                try:
                    status = http.get(self.path, headers={"Authorization": f"Bearer {self.token}"}).status_code
                except httpx.HTTPError:
                    status = "no answer"
                self.samples.append((time.monotonic(), status))
                self.timed_samples.append((sent, time.monotonic(), status))
                time.sleep(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)

    def recovered_after(self, moment: float) -> float | None:
        """Seconds from `moment` to the first 200 after the last failure that followed it."""
        last_failure = max((t for t, s in self.samples if t >= moment and s != 200), default=None)
        later = [t for t, s in self.samples if s == 200 and t >= (last_failure or moment)]
        return round(later[0] - moment, 2) if later else None

    def statuses(self) -> dict:
        return dict(collections.Counter(str(s) for _, s in self.samples))
