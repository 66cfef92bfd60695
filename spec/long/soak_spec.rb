# frozen_string_literal: true

# A bounded buffer in shared memory (a ring of 64 slots) that producers and
# consumers in many processes share under one ProcessShared::Mutex and two
# ConditionVariables, and whose every change survives its process being
# killed at any instruction.
#
# The pattern (the README's "Crash behaviour" example): every change is made
# under the mutex in three steps,
#   1. write an undo journal: the old value of every word the change touches;
#   2. mark the journal valid (one aligned 8-byte store);
#   3. change the words, then clear the mark (the change's commit point).
# Whoever acquires the mutex next and finds previous_owner_died? true replays
# a marked journal: it puts the old values back, rolling the half-done change
# back, and clears the mark. A process killed before step 2 changed nothing;
# one killed after step 3 finished its change. Replaying is idempotent, so a
# repairer killed while repairing leaves the journal for the next owner.
# previous_owner_died? is checked after every acquisition, including the one
# inside ConditionVariable#wait, which may take the mutex over too.
class JournaledRing
  CAPACITY = 64

  # Words of the state array: the buffer, the journal, the run's flags and
  # counters.
  HEAD = 0
  TAIL = 1
  COUNT = 2
  NEXT_ID = 3
  BUFFER = (HEAD..NEXT_ID)
  JOURNAL = 4 # 0, or the change in progress (PRODUCE or CONSUME)
  SAVED = 5 # old HEAD, TAIL, COUNT, NEXT_ID (4 words)
  SAVED_ITEM = 9 # the item the change is about
  SAVED_MARK = 10 # its old produced/consumed mark
  STOP = 11
  HOLDER = 12 # pid of the process holding the mutex, or 0 (for the supervisor)
  RECOVERIES = 13 # acquisitions that found previous_owner_died?
  ROLLBACKS = 14 # of which found a change half done
  WORDS = 15

  PRODUCE = 1
  CONSUME = 2

  attr_reader :state, :produced, :consumed, :max_items

  def initialize(max_items)
    @max_items = max_items
    @mutex = ProcessShared::Mutex.new
    @not_full = ProcessShared::ConditionVariable.new
    @not_empty = ProcessShared::ConditionVariable.new
    @state = ProcessShared::SharedArray.new(:int64, WORDS)
    @ring = ProcessShared::SharedArray.new(:int64, CAPACITY)
    @produced = ProcessShared::SharedMemory.new(:uint8, max_items) # 1 once item i is in
    @consumed = ProcessShared::SharedMemory.new(:uint8, max_items) # times item i came out
  end

  # Puts the next item in, waiting while the ring is full. False when the
  # run is stopped, out of item ids, or past `deadline`.
  def produce(deadline)
    locked do
      return false unless wait_while(@not_full, deadline) { @state[COUNT] == CAPACITY }
      return false if @state[STOP] == 1 || @state[NEXT_ID] >= @max_items

      item = @state[NEXT_ID]
      journal(PRODUCE, item, @produced.get_uint8(item))
      @ring[@state[TAIL]] = item
      @state[TAIL] = (@state[TAIL] + 1) % CAPACITY
      @state[COUNT] += 1
      @state[NEXT_ID] = item + 1
      @produced.put_uint8(item, 1)
      @state[JOURNAL] = 0
      @not_empty.signal
      true
    end
  end

  # Takes the oldest item out, waiting while the ring is empty. False once
  # the run is stopped and the ring empty, or past `deadline`.
  def consume(deadline)
    locked do
      return false unless wait_while(@not_empty, deadline) { @state[COUNT].zero? }

      item = @ring[@state[HEAD]]
      times = @consumed.get_uint8(item)
      journal(CONSUME, item, times)
      @consumed.put_uint8(item, times + 1)
      @state[HEAD] = (@state[HEAD] + 1) % CAPACITY
      @state[COUNT] -= 1
      @state[JOURNAL] = 0
      @not_full.signal
      true
    end
  end

  def stop! = @state[STOP] = 1

  private

  def locked(&)
    @mutex.synchronize do
      acquired
      yield
    ensure
      @state[HOLDER] = 0
    end
  end

  # After every acquisition of the mutex.
  def acquired
    @state[HOLDER] = Process.pid
    repair if @mutex.previous_owner_died?
  end

  # Waits on `cond` while the block is true. False when the run is stopped
  # or past `deadline` first.
  def wait_while(cond, deadline)
    while yield
      return false if @state[STOP] == 1 || Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

      @state[HOLDER] = 0
      cond.wait(@mutex, 0.05) # timed: a wake-up sent to a process killed since is not waited for
      acquired
    end
    true
  end

  # Steps 1 and 2 of a change.
  def journal(change, item, mark)
    BUFFER.each { |word| @state[SAVED + word] = @state[word] }
    @state[SAVED_ITEM] = item
    @state[SAVED_MARK] = mark
    @state[JOURNAL] = change
  end

  # Rolls a half-done change of a dead holder back.
  def repair
    @state[RECOVERIES] += 1
    change = @state[JOURNAL]
    return if change.zero?

    @state[ROLLBACKS] += 1
    BUFFER.each { |word| @state[word] = @state[SAVED + word] }
    marks = change == PRODUCE ? @produced : @consumed
    marks.put_uint8(@state[SAVED_ITEM], @state[SAVED_MARK])
    @state[JOURNAL] = 0
  end
end

RSpec.describe "Soak: 16 processes on a journaled bounded buffer, one SIGKILLed every second", :long do
  soak_seconds = 10
  workers = 16

  def process_state(pid)
    File.read("/proc/#{pid}/stat").split(") ").last[0]
  rescue Errno::ENOENT
    nil
  end

  # Stops the process holding the mutex (one whose pid is in HOLDER, which
  # it sets once it holds the mutex and clears before letting it go) so
  # that the kill lands inside a critical section; with `mid_change`, only
  # while a change is half done (JOURNAL marked). Returns its pid, or nil if
  # no worker was caught so within 0.9 s.
  def stop_a_holder(ring, pids, mid_change:)
    give_up = monotonic_now + 0.9
    while monotonic_now < give_up
      pid = spot_a_holder(ring, pids, mid_change)
      if pid
        return pid if stopped(pid) && caught?(ring, pid, mid_change)

        Process.kill(:CONT, pid)
      end
      sleep 0.001
    end
    nil
  end

  # Watches the shared words for a few milliseconds without a system call
  # (the windows are short, and a sleeping supervisor on a loaded machine
  # looks too seldom to see them).
  def spot_a_holder(ring, pids, mid_change)
    spin_end = monotonic_now + 0.005
    while monotonic_now < spin_end
      pid = ring.state[JournaledRing::HOLDER]
      return pid if pids.include?(pid) && caught?(ring, pid, mid_change)
    end
    nil
  end

  # Sends SIGSTOP; true once the process has stopped.
  def stopped(pid)
    Process.kill(:STOP, pid)
    stopping = monotonic_now + 0.2
    sleep 0.0002 until process_state(pid) == "T" || monotonic_now > stopping
    process_state(pid) == "T"
  end

  def caught?(ring, pid, mid_change)
    ring.state[JournaledRing::HOLDER] == pid && (!mid_change || ring.state[JournaledRing::JOURNAL] != 0)
  end

  # The first items whose mark is not 1, with their marks.
  def mismatches(marks, count)
    marks.get_bytes(0, count).bytes.each_with_index.reject { |mark, _item| mark == 1 }.first(10).map(&:reverse)
  end

  it "consumes every item produced exactly once, repairing after every holder killed" do
    ring = JournaledRing.new(8_000_000)
    run_end = monotonic_now + soak_seconds
    worker_deadline = run_end + 5
    start_worker = lambda do |role|
      fork_child do
        if role == :producer
          nil while ring.produce(worker_deadline)
        else
          nil while ring.consume(worker_deadline)
        end
      end
    end
    roles = {} # pid => role
    workers.times do |index|
      role = index.even? ? :producer : :consumer
      roles[start_worker.call(role)] = role
    end

    # Two kills of holders (in the middle of a change, then any holder; a
    # holder not caught in time is replaced by any worker), then one of any
    # worker, and again.
    kills = Hash.new(0)
    next_kill = monotonic_now + 1
    (0..).each do |round|
      break if next_kill >= run_end

      sleep [next_kill - monotonic_now, 0].max
      kind = if round % 3 == 2
               :any
             else
               kills[:mid_change] <= kills[:holding] ? :mid_change : :holding
             end
      victim = (stop_a_holder(ring, roles.keys, mid_change: kind == :mid_change) unless kind == :any)
      kind = :any unless victim
      victim ||= roles.keys.sample
      Process.kill(:KILL, victim)
      wait_child(victim, timeout: 5)
      kills[kind] += 1
      role = roles.delete(victim)
      roles[start_worker.call(role)] = role
      next_kill += 1
    end
    sleep [run_end - monotonic_now, 0].max
    ring.stop!
    expect_children_to_succeed(roles.keys, timeout: 8)

    state = ring.state.to_a
    items = state[JournaledRing::NEXT_ID]
    holders_killed = kills[:mid_change] + kills[:holding]
    report = "#{items} items; #{kills.values.sum} kills: #{kills[:mid_change]} mid-change, " \
             "#{kills[:holding]} other holders, #{kills[:any]} at random; " \
             "#{state[JournaledRing::RECOVERIES]} recoveries, #{state[JournaledRing::ROLLBACKS]} rollbacks"
    puts "\nsoak: #{report}" if ENV["PROCESS_SHARED_TIMINGS"]

    expect(kills.values.sum).to be >= soak_seconds - 2
    expect(kills[:mid_change]).to be >= 1, report
    expect(state[JournaledRing::RECOVERIES]).to be >= holders_killed, report
    expect(state[JournaledRing::ROLLBACKS]).to be >= kills[:mid_change], report
    expect(state[JournaledRing::JOURNAL]).to eq(0)
    expect(state[JournaledRing::COUNT]).to eq(0), "left in the ring after the drain (#{report})"
    expect(state[JournaledRing::HEAD]).to eq(state[JournaledRing::TAIL])
    expect(items).to be > 1000
    expect(ring.produced.get_bytes(0, items)).to eq("\x01".b * items),
                                                 "not marked produced: #{mismatches(ring.produced, items)}"
    expect(ring.consumed.get_bytes(0, items)).to eq("\x01".b * items),
                                                 "not consumed exactly once: #{mismatches(ring.consumed, items)}"
    beyond = ring.max_items - items
    expect(ring.produced.get_bytes(items, beyond).count("\0")).to eq(beyond)
    expect(ring.consumed.get_bytes(items, beyond).count("\0")).to eq(beyond)
  end
end
