# frozen_string_literal: true

# Target 2: uncontended Semaphore#wait+#post and #synchronize within 1.3x of
# Thread::Mutex's lock+unlock and #synchronize.

require_relative "support"

mutex = Thread::Mutex.new
semaphore = ProcessShared::Semaphore.new(1)

Bench.compare("wait+post vs lock+unlock (uncontended)", "Thread::Mutex#lock+unlock",
              "Thread::Mutex#lock+unlock" => lambda { |n|
                i = 0
                while i < n
                  mutex.lock
                  mutex.unlock
                  i += 1
                end
              },
              "Semaphore#wait+post" => lambda { |n|
                i = 0
                while i < n
                  semaphore.wait
                  semaphore.post
                  i += 1
                end
              })

Bench.compare("synchronize {} (uncontended)", "Thread::Mutex#synchronize",
              "Thread::Mutex#synchronize" => lambda { |n|
                i = 0
                while i < n
                  mutex.synchronize {}
                  i += 1
                end
              },
              "Semaphore#synchronize" => lambda { |n|
                i = 0
                while i < n
                  semaphore.synchronize {}
                  i += 1
                end
              })
