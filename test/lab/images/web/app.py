"""The seeds' hit counter: every request increments a counter in Redis and says which task answered."""
import os
import socket

import redis
from flask import Flask



def read_password():
    """The password from a swarm secret file (never an environment variable docker inspect shows)."""
    path = os.environ.get("REDIS_PASSWORD_FILE")
    if not path:
        return None
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


app = Flask(__name__)
store = redis.Redis(
    host=os.environ.get("REDIS_HOST", "redis"),
    port=int(os.environ.get("REDIS_PORT", "6379")),
    password=read_password(),
    socket_connect_timeout=2,
    socket_timeout=2,
)


@app.route("/")
def hello():
    hits = store.incr("hits")
    return f"Hello from {socket.gethostname()}: {hits} hits\n"


@app.route("/health")
def health():
    store.ping()
    return "ok\n"


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "8000")))
