# frozen_string_literal: true

# Target 3: 2 and 4 processes each doing 100,000 lock / increment a shared
# Integer / unlock. ProcessShared::Mutex must take at most 1/3 of the time
# File#flock takes for the same loop on one file.

require_relative "support"
require "tmpdir"

ITERATIONS = Integer(ENV.fetch("BENCH_ITERATIONS", "100000"))

def increment_under(lock, counter)
  ITERATIONS.times do
    lock.lock
    counter.put_int64(0, counter.get_int64(0) + 1)
    lock.unlock
  end
end

def increment_under_flock(path, counter)
  File.open(path, File::RDWR | File::CREAT) do |file| # each process needs its own open file
    ITERATIONS.times do
      file.flock(File::LOCK_EX)
      counter.put_int64(0, counter.get_int64(0) + 1)
      file.flock(File::LOCK_UN)
    end
  end
end

def checked(counter, processes)
  total = counter.get_int64(0)
  raise "lost updates: #{total} != #{processes * ITERATIONS}" unless total == processes * ITERATIONS

  counter.put_int64(0, 0)
end

Bench.banner
Dir.mktmpdir do |dir|
  path = File.join(dir, "lock")
  counter = ProcessShared::SharedMemory.new(:int64)
  [2, 4].each do |processes|
    costs = {}
    costs["File#flock"] = Bench.median_of do
      Bench.time_processes(processes) { increment_under_flock(path, counter) }.tap { checked(counter, processes) }
    end
    mutex = ProcessShared::Mutex.new
    costs["ProcessShared::Mutex"] = Bench.median_of do
      Bench.time_processes(processes) { increment_under(mutex, counter) }.tap { checked(counter, processes) }
    end
    facade = ProcessShared::Semaphore.new(1).to_mtx
    costs["Semaphore#to_mtx"] = Bench.median_of do
      Bench.time_processes(processes) { increment_under(facade, counter) }.tap { checked(counter, processes) }
    end
    Bench.table("#{processes} processes x #{ITERATIONS} lock/increment/unlock (total wall time)",
                "File#flock", costs.transform_values { |seconds| seconds * 1000 }, unit: "ms")
  end
end
