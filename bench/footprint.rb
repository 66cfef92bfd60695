# frozen_string_literal: true

# Target 8: a live Mutex costs at most one page of shared memory and no file
# descriptor. Reports, per 10,000 live objects of each class, the growth of
# RSS, of mappings and of open file descriptors.

require_relative "support"

OBJECTS = 10_000

def rss_kib
  File.read("/proc/self/status")[/^VmRSS:\s+(\d+)/, 1].to_i
end

def mappings
  File.foreach("/proc/self/maps").count
end

def open_fds
  Dir.children("/proc/self/fd").size
end

FACTORIES = {
  "Semaphore" => -> { ProcessShared::Semaphore.new },
  "BinarySemaphore" => -> { ProcessShared::BinarySemaphore.new },
  "Mutex" => -> { ProcessShared::Mutex.new },
  "ConditionVariable" => -> { ProcessShared::ConditionVariable.new },
  "Monitor" => -> { ProcessShared::Monitor.new },
  "SharedMemory(:int)" => -> { ProcessShared::SharedMemory.new(:int) },
  "SharedArray(:int, 16)" => -> { ProcessShared::SharedArray.new(:int, 16) }
}.freeze

Bench.banner
page_kib = Integer(`getconf PAGESIZE`) / 1024
puts "\n== footprint of #{OBJECTS} live objects (page = #{page_kib} KiB)"
puts format("  %-22s %12s %14s %10s %8s", "class", "RSS (KiB)", "KiB/object", "mappings", "fds")
FACTORIES.each do |name, factory|
  GC.start
  rss = rss_kib
  maps = mappings
  fds = open_fds
  objects = Array.new(OBJECTS) { factory.call }
  grown = rss_kib - rss
  puts format("  %-22s %12d %14.2f %10d %8d", name, grown, grown.fdiv(OBJECTS), mappings - maps, open_fds - fds)
  objects.each(&:close)
end
