# frozen_string_literal: true

# Target 2: uncontended Semaphore#wait+#post and #synchronize within 1.3x of
# Thread::Mutex's lock+unlock and #synchronize.

require_relative "support"

mutex = Thread::Mutex.new
semaphore = ProcessShared::Semaphore.new(1)
here = binding

Bench.compare("wait+post vs lock+unlock (uncontended)", "Thread::Mutex#lock+unlock",
              "Thread::Mutex#lock+unlock" => Bench.looped(here, "mutex.lock; mutex.unlock"),
              "Semaphore#wait+post" => Bench.looped(here, "semaphore.wait; semaphore.post"))

Bench.compare("synchronize {} (uncontended)", "Thread::Mutex#synchronize",
              "Thread::Mutex#synchronize" => Bench.looped(here, "mutex.synchronize {}"),
              "Semaphore#synchronize" => Bench.looped(here, "semaphore.synchronize {}"))
