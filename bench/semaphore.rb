# frozen_string_literal: true

# Target: uncontended Semaphore#wait+#post and #synchronize within 1.3x of
# Thread::Mutex's lock+unlock and #synchronize.

require_relative "support"

mutex = Thread::Mutex.new
semaphore = ProcessShared::Semaphore.new(1)

Bench.compare("wait+post vs lock+unlock (uncontended)", "Thread::Mutex#lock+unlock",
              "Thread::Mutex#lock+unlock" => lambda {
                mutex.lock
                mutex.unlock
              },
              "Semaphore#wait+post" => lambda {
                semaphore.wait
                semaphore.post
              })

Bench.compare("synchronize (uncontended)", "Thread::Mutex#synchronize",
              "Thread::Mutex#synchronize" => -> { mutex.synchronize {} },
              "Semaphore#synchronize" => -> { semaphore.synchronize {} })
