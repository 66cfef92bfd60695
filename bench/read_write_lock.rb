# frozen_string_literal: true

# Targets: uncontended with_read_lock {} within 1.3x of
# Thread::Mutex#synchronize; 4 processes mostly reading (one write in 20)
# in at most half the time File#flock (LOCK_SH / LOCK_EX) takes.

require_relative "support"
require "tmpdir"

ITERATIONS = Integer(ENV.fetch("BENCH_ITERATIONS", "50000"))
WRITE_EVERY = 20

mutex = Thread::Mutex.new
lock = ProcessShared::ReadWriteLock.new
here = binding

uncontended = Bench.compare("with_read_lock {} (uncontended)", "Thread::Mutex#synchronize",
                            "Thread::Mutex#synchronize" => Bench.looped(here, "mutex.synchronize {}"),
                            "ReadWriteLock#with_read_lock" => Bench.looped(here, "lock.with_read_lock {}"),
                            "ReadWriteLock#with_write_lock" => Bench.looped(here, "lock.with_write_lock {}"))
Bench.target(uncontended, "ReadWriteLock#with_read_lock", "Thread::Mutex#synchronize", 1.3)

def mostly_reading_rwlock(lock, data)
  ITERATIONS.times do |i|
    if (i % WRITE_EVERY).zero?
      lock.with_write_lock { data.put_int64(0, data.get_int64(0) + 1) }
    else
      lock.with_read_lock { data.get_int64(0) }
    end
  end
end

def mostly_reading_flock(path, data)
  File.open(path, File::RDWR | File::CREAT) do |file|
    ITERATIONS.times do |i|
      if (i % WRITE_EVERY).zero?
        file.flock(File::LOCK_EX)
        data.put_int64(0, data.get_int64(0) + 1)
      else
        file.flock(File::LOCK_SH)
        data.get_int64(0)
      end
      file.flock(File::LOCK_UN)
    end
  end
end

Dir.mktmpdir do |dir|
  path = File.join(dir, "lock")
  data = ProcessShared::SharedMemory.new(:int64)
  processes = 4
  costs = {}
  costs["File#flock"] = Bench.median_of do
    Bench.time_processes(processes) { mostly_reading_flock(path, data) }
  end
  costs["ProcessShared::ReadWriteLock"] = Bench.median_of do
    Bench.time_processes(processes) { mostly_reading_rwlock(lock, data) }
  end
  Bench.table("#{processes} processes x #{ITERATIONS} operations, one write in #{WRITE_EVERY} (total wall time)",
              "File#flock", costs.transform_values { |seconds| seconds * 1000 }, unit: "ms")
  Bench.target(costs, "ProcessShared::ReadWriteLock", "File#flock", 0.5)
end
