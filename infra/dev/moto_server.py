"""moto's server (`moto_server`), with SQS's queue operations made atomic.

moto 5.2.5 serves each request on its own thread, but SQS's DeleteMessage rebuilds a queue's
message list without the lock SendMessage appends under: a message sent while another is
deleted can vanish, and two concurrent ReceiveMessage calls can both take one message. Real
SQS does neither. The AWS end-to-end suite hit it as a retry that never came (the poller
deleting a duplicate while the delivery handler sent the next attempt), so here both take the
queue's own lock. ReceiveMessage's long poll still waits with the lock released (it waits on
the queue's condition), so a waiting receive blocks nobody.
"""

import sys

from moto.server import main
from moto.sqs.models import Queue, SQSBackend

_delete_message = Queue.delete_message
_receive_message = SQSBackend.receive_message


def delete_message(self, receipt_handle):
    with self._messages_lock:
        return _delete_message(self, receipt_handle)


def receive_message(self, queue_name, *args, **kwargs):
    with self.get_queue(queue_name)._messages_lock:
        return _receive_message(self, queue_name, *args, **kwargs)


Queue.delete_message = delete_message
SQSBackend.receive_message = receive_message

if __name__ == "__main__":
    sys.exit(main())
