# frozen_string_literal: true

# Targets 1 and 2: uncontended ProcessShared::Mutex#synchronize and
# #lock+#unlock, and Semaphore#to_mtx, within 1.3x of Thread::Mutex; the
# reentrant and binary locks next to core Ruby's Monitor, for information.

require_relative "support"
require "monitor"

thread_mutex = Thread::Mutex.new
mutex = ProcessShared::Mutex.new
facade = ProcessShared::Semaphore.new(1).to_mtx
core_monitor = Monitor.new
monitor = ProcessShared::Monitor.new
binary = ProcessShared::BinarySemaphore.new
here = binding

Bench.compare("synchronize {} (uncontended)", "Thread::Mutex#synchronize",
              "Thread::Mutex#synchronize" => Bench.looped(here, "thread_mutex.synchronize {}"),
              "ProcessShared::Mutex#synchronize" => Bench.looped(here, "mutex.synchronize {}"),
              "Semaphore#to_mtx#synchronize" => Bench.looped(here, "facade.synchronize {}"))

Bench.compare("lock+unlock (uncontended)", "Thread::Mutex#lock+unlock",
              "Thread::Mutex#lock+unlock" => Bench.looped(here, "thread_mutex.lock; thread_mutex.unlock"),
              "ProcessShared::Mutex#lock+unlock" => Bench.looped(here, "mutex.lock; mutex.unlock"),
              "Semaphore#to_mtx#lock+unlock" => Bench.looped(here, "facade.lock; facade.unlock"))

Bench.compare("reentrant and binary locks: synchronize {} (uncontended)", "::Monitor#synchronize",
              "::Monitor#synchronize" => Bench.looped(here, "core_monitor.synchronize {}"),
              "ProcessShared::Monitor#synchronize" => Bench.looped(here, "monitor.synchronize {}"),
              "BinarySemaphore#synchronize" => Bench.looped(here, "binary.synchronize {}"))
