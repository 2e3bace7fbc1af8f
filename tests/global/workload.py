"""A dict/JSON/regex/string workload for the malloc adapter's real-program runs.

Deterministic: prints digests that must be identical under any malloc.
Sized to take a couple of seconds.
"""
import hashlib
import json
import random
import re

rng = random.Random(2024)
digest = hashlib.sha256()

# Dicts: build, update and delete many small entries (lots of small mallocs).
table = {}
for i in range(300_000):
    key = "k%d_%d" % (i, rng.randrange(1000))
    table[key] = [i, str(i) * (i % 7), {"n": i}]
    if i % 3 == 0:
        table.pop(key)
digest.update(str(len(table)).encode())
digest.update(str(sum(v[0] for v in table.values())).encode())

# JSON: round trips of nested documents of varying size.
for r in range(60):
    doc = {"id": r, "items": [{"name": "item%d" % j, "tags": ["t%d" % (j % 13)] * (j % 5),
                                "value": j * 1.5} for j in range(r * 50)]}
    text = json.dumps(doc, sort_keys=True)
    back = json.loads(text)
    assert back == doc
    digest.update(hashlib.sha256(text.encode()).digest())

# Regex: compile many patterns, scan generated text.
words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
text = " ".join(rng.choice(words) + str(rng.randrange(100)) for _ in range(200_000))
for w in words:
    pat = re.compile(r"\b%s(\d+)\b" % w)
    found = pat.findall(text)
    digest.update(("%s:%d:%d" % (w, len(found), sum(map(int, found)))).encode())
digest.update(re.sub(r"(\w+?)(\d)", r"\2\1", text[:100_000]).encode())

# Strings and bytes: growing buffers (realloc paths) and big joins.
parts = []
for i in range(100_000):
    parts.append(("%08x" % (i * 2654435761 % 2**32)) * (1 + i % 4))
blob = "".join(parts).encode()
buf = bytearray()
for i in range(0, len(blob), 997):
    buf += blob[i:i + 997]
digest.update(bytes(buf))

print("workload digest", digest.hexdigest())
print("dict entries", len(table))
