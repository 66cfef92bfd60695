# frozen_string_literal: true

# ProcessShared::Queue next to what users do without it: IO.pipe with
# Marshal and length framing. Three comparisons, each in one run:
#
# 1. Throughput of small items ([1, "job", {id: 7}]) from one producer
#    process to one consumer process (target: at least 2 times the pipe's
#    rate). Python's multiprocessing.Queue does the same, for information
#    (bench/queue_python.py, if python3 is installed).
# 2. Ping-pong through two queues between two processes, next to the same
#    round trip over two pipes (target: no slower than the pipes).
# 3. A 1 MB object (an Array of 100,000 short Strings) pushed and popped in
#    one process, next to Marshal.dump + Marshal.load alone, measured with
#    benchmark-ips (target: at most 1.25 times).
#
#   rake compile && ruby -Ilib bench/queue.rb
#
# On a machine shared with other work, wall-clock time mostly measures the
# scheduler; so the first two comparisons also report the CPU time both
# processes spent (user + system, the children's from Process.times), which
# load disturbs much less.
#
# Environment: BENCH_ITEMS (default 100,000), BENCH_ROUND_TRIPS (10,000),
# BENCH_RUNS (median of 5, the contenders taking turns), BENCH_TIME (seconds
# per benchmark-ips entry). The last lines print each ratio next to its target.

require_relative "support"

ITEMS = Integer(ENV.fetch("BENCH_ITEMS", "100000"))
ROUND_TRIPS = Integer(ENV.fetch("BENCH_ROUND_TRIPS", "10000"))
SMALL = [1, "job", { id: 7 }].freeze

# [wall seconds, CPU seconds of this process and the children it reaped]
# of the block.
def measured(&)
  cpu = -> { Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) + Process.times.then { _1.cutime + _1.cstime } }
  cpu_before = cpu.call
  wall = Bench.seconds(&)
  [wall, cpu.call - cpu_before]
end

# Writes one Marshal record with a 4-byte length in front.
def write_framed(io, object)
  data = Marshal.dump(object)
  io.write([data.bytesize].pack("N"), data)
end

def read_framed(io)
  Marshal.load(io.read(io.read(4).unpack1("N"))) # rubocop:disable Security/MarshalLoad
end

# Seconds to move ITEMS small items from a child to the parent.
def pipe_throughput
  reader, writer = IO.pipe
  measured do
    pid = fork do
      reader.close
      ITEMS.times { write_framed(writer, SMALL) }
      exit!(0)
    end
    writer.close
    ITEMS.times { read_framed(reader) }
    Process.wait(pid)
  end
ensure
  reader.close
end

def queue_throughput
  queue = ProcessShared::Queue.new
  measured do
    pid = fork do
      ITEMS.times { queue.push(SMALL) }
      exit!(0)
    end
    ITEMS.times { queue.pop }
    Process.wait(pid)
  end
ensure
  queue.close
end

def pipe_ping_pong
  to_child_reader, to_child_writer = IO.pipe
  to_parent_reader, to_parent_writer = IO.pipe
  measured do
    pid = fork do
      ROUND_TRIPS.times { write_framed(to_parent_writer, read_framed(to_child_reader)) }
      exit!(0)
    end
    ROUND_TRIPS.times do
      write_framed(to_child_writer, SMALL)
      read_framed(to_parent_reader)
    end
    Process.wait(pid)
  end
ensure
  [to_child_reader, to_child_writer, to_parent_reader, to_parent_writer].each(&:close)
end

def queue_ping_pong
  to_child = ProcessShared::Queue.new
  to_parent = ProcessShared::Queue.new
  measured do
    pid = fork do
      ROUND_TRIPS.times { to_parent.push(to_child.pop) }
      exit!(0)
    end
    ROUND_TRIPS.times do
      to_child.push(SMALL)
      to_parent.pop
    end
    Process.wait(pid)
  end
ensure
  [to_child, to_parent].each(&:close)
end

# Items per second of Python's multiprocessing.Queue, or nil.
def python_rate
  script = File.join(__dir__, "queue_python.py")
  output = IO.popen(["python3", script, ITEMS.to_s], err: File::NULL, &:read)
  Float(output[/items_per_second=([\d.]+)/, 1]) if $?.success? # rubocop:disable Style/SpecialGlobalVars
rescue SystemCallError
  nil
end

# Prints wall-clock and CPU tables for { label => [wall, cpu] } per `count`;
# returns { label => [wall, cpu] } per `count`.
def report(title, runs, count, unit)
  baseline = runs.keys.first
  Bench.table("#{title}, wall clock", baseline, runs.transform_values { |wall, _| wall / count * 1e9 }, unit:)
  Bench.table("#{title}, CPU of both processes", baseline, runs.transform_values { |_, cpu| cpu / count * 1e9 }, unit:)
  runs
end

# { label => [wall, cpu] }: the median wall and the median CPU time of
# BENCH_RUNS runs of each entry, the entries taking turns (so a burst of
# load elsewhere hits both alike).
def alternated(entries)
  runs = Integer(ENV.fetch("BENCH_RUNS", "5"))
  samples = entries.transform_values { [] }
  runs.times { entries.each { |label, run| samples[label] << run.call } }
  median = ->(values) { values.sort[values.size / 2] }
  samples.transform_values { |pairs| [median.call(pairs.map(&:first)), median.call(pairs.map(&:last))] }
end

# One line per target: the ratio measured, the target and whether it is met.
def verdict(what, ratio, target, higher_is_better:)
  met = higher_is_better ? ratio >= target : ratio <= target
  puts format("  %-58s %6.2fx  (target %s %.2fx)  %s", what, ratio, higher_is_better ? ">=" : "<=", target,
              met ? "met" : "NOT met")
end

PIPE = "IO.pipe + Marshal, framed"
QUEUE = "ProcessShared::Queue"

Bench.banner
throughput = report("small items, one producer process -> one consumer process (#{ITEMS})",
                    alternated(PIPE => -> { pipe_throughput }, QUEUE => -> { queue_throughput }),
                    ITEMS, "ns/item")
if (rate = python_rate)
  puts format("  python3 multiprocessing.Queue, for information: %.1f ns/item (wall clock)", 1e9 / rate)
end

ping_pong = report("ping-pong between two processes (#{ROUND_TRIPS} round trips)",
                   alternated(PIPE => -> { pipe_ping_pong }, QUEUE => -> { queue_ping_pong }),
                   ROUND_TRIPS, "ns/round trip")

BIG = Array.new(100_000) { |i| "s#{i.to_s.rjust(6, '0')}" }.freeze
BIG_QUEUE = ProcessShared::Queue.new(bytes: 4 << 20)
MARSHAL = "Marshal.load(Marshal.dump(obj))"
big = Bench.compare("a 1 MB object (#{Marshal.dump(BIG).bytesize} bytes marshaled), in one process", MARSHAL,
                    { MARSHAL => -> { Marshal.load(Marshal.dump(BIG)) },
                      "queue.push(obj); queue.pop" => -> { BIG_QUEUE.push(BIG).pop } })

puts "\n== targets (ratios from this run)"
%i[wall cpu].each_with_index do |clock, index|
  label = clock == :wall ? "wall clock" : "CPU time"
  verdict("small items: queue rate / pipe rate (#{label})",
          throughput[PIPE][index] / throughput[QUEUE][index], 2.0, higher_is_better: true)
  verdict("ping-pong: queue round trip / pipe round trip (#{label})",
          ping_pong[QUEUE][index] / ping_pong[PIPE][index], 1.0, higher_is_better: false)
end
verdict("1 MB object: push + pop / Marshal.dump + load", big.values.last / big.fetch(MARSHAL), 1.25,
        higher_is_better: false)
