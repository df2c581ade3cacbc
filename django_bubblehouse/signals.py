"""The app's own signals, for host monitoring.

Both are sent once per pushed batch with ``sender`` = the serializer class:

- ``push_succeeded(kind, keys)``
- ``push_failed(kind, keys, error)`` where ``error`` is the exception (a
  :class:`~django_bubblehouse.exceptions.BubblehouseAPIError` or
  :class:`~django_bubblehouse.exceptions.SerializationError`).
"""

from django.dispatch import Signal

push_succeeded = Signal()
push_failed = Signal()
