# frozen_string_literal: true

# Target 4: ConditionVariable ping-pong between two processes (10,000 round
# trips) no slower than the same ping-pong over a pair of IO.pipes.

require_relative "support"

ROUND_TRIPS = Integer(ENV.fetch("BENCH_ROUND_TRIPS", "10000"))

def pipe_ping_pong
  to_child_reader, to_child_writer = IO.pipe
  to_parent_reader, to_parent_writer = IO.pipe
  pid = fork do
    ROUND_TRIPS.times do
      to_child_reader.readpartial(1)
      to_parent_writer.write("o")
    end
    exit!(0)
  end
  ROUND_TRIPS.times do
    to_child_writer.write("i")
    to_parent_reader.readpartial(1)
  end
  Process.wait(pid)
  [to_child_reader, to_child_writer, to_parent_reader, to_parent_writer].each(&:close)
end

# turn: 0 = the parent's move, 1 = the child's.
def condition_ping_pong
  mutex = ProcessShared::Mutex.new
  condition = ProcessShared::ConditionVariable.new
  turn = ProcessShared::SharedMemory.new(:int)
  play = lambda do |mine, theirs|
    ROUND_TRIPS.times do
      mutex.synchronize do
        condition.wait(mutex) until turn.get_int(0) == mine
        turn.put_int(0, theirs)
        condition.signal
      end
    end
  end
  pid = fork do
    play.call(1, 0)
    exit!(0)
  end
  play.call(0, 1)
  _, status = Process.wait2(pid)
  raise "child failed" unless status.success?
end

Bench.banner
contenders = {
  "IO.pipe pair" => -> { pipe_ping_pong },
  "ConditionVariable + Mutex" => -> { condition_ping_pong }
}
# Alternating rounds, ratios paired within each (see Bench.compare): a
# ping-pong mostly measures the scheduler, which drifts from minute to minute.
samples = contenders.keys.to_h { |label| [label, []] }
Bench.rounds.times do |round|
  contenders.to_a.rotate(round).each do |label, run|
    samples[label] << (Bench.seconds { run.call } * 1000)
  end
end
costs = Bench.paired_table("#{ROUND_TRIPS} round trips between two processes", "IO.pipe pair", samples,
                           unit: "ms")
Bench.target(costs, "ConditionVariable + Mutex", "IO.pipe pair", 1.0)
