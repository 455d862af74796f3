"""What the user's commands do, without a screen: cache + domain + sync, no Textual.

:mod:`.batch` renders a template for many threads and queues the replies; :mod:`.tasks` queues
claim/route/escalate/close (or one reply) for many threads. Each writes ONE outbox transaction.
"""
