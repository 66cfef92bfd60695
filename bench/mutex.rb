# frozen_string_literal: true

# Uncontended costs next to Thread::Mutex in one run: targets
# Mutex#synchronize {} <= 1.1x, Mutex#lock+unlock <= 1.2x,
# Semaphore#wait+post <= 1.15x, Semaphore#to_mtx and BinarySemaphore <= 1.1x;
# ProcessShared::Monitor#synchronize <= 1.0x core Ruby's Monitor.

require_relative "support"
require "monitor"

thread_mutex = Thread::Mutex.new
mutex = ProcessShared::Mutex.new
facade = ProcessShared::Semaphore.new(1).to_mtx
semaphore = ProcessShared::Semaphore.new(1)
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
              "Semaphore#to_mtx#lock+unlock" => Bench.looped(here, "facade.lock; facade.unlock"),
              "Semaphore#wait+post" => Bench.looped(here, "semaphore.wait; semaphore.post"),
              "BinarySemaphore#wait+post" => Bench.looped(here, "binary.wait; binary.post"))

Bench.compare("reentrant and binary locks: synchronize {} (uncontended)", "::Monitor#synchronize",
              "::Monitor#synchronize" => Bench.looped(here, "core_monitor.synchronize {}"),
              "ProcessShared::Monitor#synchronize" => Bench.looped(here, "monitor.synchronize {}"),
              "BinarySemaphore#synchronize" => Bench.looped(here, "binary.synchronize {}"))
