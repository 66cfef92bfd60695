# frozen_string_literal: true

# Targets 1 and 2: uncontended ProcessShared::Mutex#synchronize and
# #lock+#unlock, and Semaphore#to_mtx#synchronize, within 1.3x of
# Thread::Mutex.

require_relative "support"

thread_mutex = Thread::Mutex.new
mutex = ProcessShared::Mutex.new
facade = ProcessShared::Semaphore.new(1).to_mtx

Bench.compare("synchronize {} (uncontended)", "Thread::Mutex#synchronize",
              "Thread::Mutex#synchronize" => lambda { |n|
                i = 0
                while i < n
                  thread_mutex.synchronize {}
                  i += 1
                end
              },
              "ProcessShared::Mutex#synchronize" => lambda { |n|
                i = 0
                while i < n
                  mutex.synchronize {}
                  i += 1
                end
              },
              "Semaphore#to_mtx#synchronize" => lambda { |n|
                i = 0
                while i < n
                  facade.synchronize {}
                  i += 1
                end
              })

Bench.compare("lock+unlock (uncontended)", "Thread::Mutex#lock+unlock",
              "Thread::Mutex#lock+unlock" => lambda { |n|
                i = 0
                while i < n
                  thread_mutex.lock
                  thread_mutex.unlock
                  i += 1
                end
              },
              "ProcessShared::Mutex#lock+unlock" => lambda { |n|
                i = 0
                while i < n
                  mutex.lock
                  mutex.unlock
                  i += 1
                end
              },
              "Semaphore#to_mtx#lock+unlock" => lambda { |n|
                i = 0
                while i < n
                  facade.lock
                  facade.unlock
                  i += 1
                end
              })

require "monitor"
core_monitor = Monitor.new
monitor = ProcessShared::Monitor.new
binary = ProcessShared::BinarySemaphore.new

Bench.compare("reentrant and binary locks: synchronize {} (uncontended)", "::Monitor#synchronize",
              "::Monitor#synchronize" => lambda { |n|
                i = 0
                while i < n
                  core_monitor.synchronize {}
                  i += 1
                end
              },
              "ProcessShared::Monitor#synchronize" => lambda { |n|
                i = 0
                while i < n
                  monitor.synchronize {}
                  i += 1
                end
              },
              "BinarySemaphore#synchronize" => lambda { |n|
                i = 0
                while i < n
                  binary.synchronize {}
                  i += 1
                end
              })
