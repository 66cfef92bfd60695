# frozen_string_literal: true

# Timeouts that are NaN, negative (ArgumentError) or not an Integer or Float
# (TypeError), for every method that takes one, in every state of the lock:
# the call raises before it changes anything (a held lock stays held at the
# same depth, a value stays the same).
module Battery
  BAD_TIMEOUTS = {
    Float::NAN => ArgumentError, -Float::INFINITY => ArgumentError, -1 => ArgumentError,
    -0.001 => ArgumentError, -(2**70) => ArgumentError, -Float::MAX => ArgumentError,
    "1" => TypeError, :one => TypeError, Object.new => TypeError, true => TypeError, [1] => TypeError,
    1r => TypeError, Complex(1, 0) => TypeError
  }.freeze

  # A thread that takes a lock with `acquire` and holds it until the case
  # ends (then releases it with `release`).
  def self.hold_in_other_thread(fixture, acquire, release)
    locked = Queue.new
    done = Queue.new
    thread = Thread.new do
      acquire.call
      locked << true
      done.pop
      release.call
    end
    locked.pop
    fixture.defer do
      done << true
      thread.join
    end
  end

  # name => [setup, call(subject, timeout), check]
  def self.timeout_subjects
    ps = ProcessShared
    owned = ->(lock) { lock.owned? }
    mon_owned = ->(pair) { pair.first.mon_owned? }
    {
      "Semaphore(1)#try_wait" => [->(f) { f.own(ps::Semaphore.new(1)) }, ->(s, t) { s.try_wait(t) }, lambda { |s|
                                                                                                       s.value == 1
                                                                                                     }],
      "Semaphore(0)#try_wait" => [->(f) { f.own(ps::Semaphore.new(0)) }, ->(s, t) { s.try_wait(t) }, lambda { |s|
                                                                                                       s.value.zero?
                                                                                                     }],
      "BinarySemaphore(1)#try_wait" => [->(f) { f.own(ps::BinarySemaphore.new(1)) }, ->(s, t) { s.try_wait(t) },
                                        ->(s) { s.value == 1 }],
      "BinarySemaphore(0)#try_wait" => [->(f) { f.own(ps::BinarySemaphore.new(0)) }, ->(s, t) { s.try_wait(t) },
                                        ->(s) { s.value.zero? }],
      "free Mutex#try_lock" => [->(f) { f.own(ps::Mutex.new) }, ->(m, t) { m.try_lock(t) }, ->(m) { !m.locked? }],
      "own Mutex#try_lock" => [->(f) { f.own(ps::Mutex.new).lock }, ->(m, t) { m.try_lock(t) }, owned],
      "busy Mutex#try_lock" => [
        ->(f) { f.own(ps::Mutex.new).tap { |m| hold_in_other_thread(f, -> { m.lock }, -> { m.unlock }) } },
        ->(m, t) { m.try_lock(t) }, ->(m) { m.locked? && !m.owned? }
      ],
      "Mutex#sleep" => [->(f) { f.own(ps::Mutex.new).lock }, ->(m, t) { m.sleep(t) }, owned],
      "ConditionVariable#wait(mutex)" => [
        ->(f) { [f.own(ps::Mutex.new).lock, f.own(ps::ConditionVariable.new)] },
        ->((m, cv), t) { cv.wait(m, t) }, ->((m, _)) { m.owned? }
      ],
      "ConditionVariable#wait(monitor)" => [
        ->(f) { [f.own(ps::Monitor.new).tap { |m| 2.times { m.enter } }, f.own(ps::ConditionVariable.new)] },
        ->((m, cv), t) { cv.wait(m, t) }, ->((m, _)) { m.mon_owned? && m.exit.nil? && m.mon_owned? }
      ],
      "Monitor#new_cond.wait" => [
        ->(f) { f.own(ps::Monitor.new).tap(&:enter).then { |m| [m, m.new_cond] } },
        ->((_, cond), t) { cond.wait(t) }, mon_owned
      ],
      "MonitorMixin#new_cond.wait" => [
        lambda do |f|
          mixed = Object.new.extend(ps::MonitorMixin)
          f.defer { mixed.mon_close }
          mixed.mon_enter
          [mixed, mixed.new_cond]
        end,
        ->((_, cond), t) { cond.wait(t) }, mon_owned
      ],
      "SemaphoreMutex#try_lock" => [->(f) { f.own(ps::Semaphore.new(1)).to_mtx }, ->(m, t) { m.try_lock(t) },
                                    ->(m) { !m.locked? }],
      "locked SemaphoreMutex#try_lock" => [->(f) { f.own(ps::Semaphore.new(0)).to_mtx }, ->(m, t) { m.try_lock(t) },
                                           ->(m) { m.locked? }],
      "SemaphoreMutex#sleep" => [->(f) { f.own(ps::Semaphore.new(1)).to_mtx.lock }, ->(m, t) { m.sleep(t) },
                                 ->(m) { m.locked? }]
    }.merge(monitor_try_enters)
  end

  # Every name of Monitor#try_enter, free and entered by another thread.
  def self.monitor_try_enters
    %i[try_enter mon_try_enter try_mon_enter try_lock].flat_map do |name|
      free = ->(f) { f.own(ProcessShared::Monitor.new) }
      busy = lambda do |f|
        f.own(ProcessShared::Monitor.new).tap { |m| hold_in_other_thread(f, -> { m.enter }, -> { m.exit }) }
      end
      [["free Monitor##{name}", [free, ->(m, t) { m.public_send(name, t) }, ->(m) { !m.mon_locked? }]],
       ["busy Monitor##{name}", [busy, ->(m, t) { m.public_send(name, t) }, ->(m) { m.mon_locked? && !m.mon_owned? }]]]
    end.to_h
  end

  table "timeouts" do
    timeout_subjects.flat_map do |subject, (setup, call, check)|
      BAD_TIMEOUTS.map do |timeout, error|
        bad("#{subject}(#{timeout.inspect})", error, setup:, check:) { |object| call.call(object, timeout) }
      end
    end
  end
end
