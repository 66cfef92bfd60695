# frozen_string_literal: true

# Target: uncontended wait+post of a semaphore with undo: true within 1.3x
# of a plain Semaphore's.

require_relative "support"

plain = ProcessShared::Semaphore.new(1)
undo = ProcessShared::Semaphore.new(1, undo: true)
here = binding

costs = Bench.compare("wait+post (uncontended)", "Semaphore#wait+post",
                      "Semaphore#wait+post" => Bench.looped(here, "plain.wait; plain.post"),
                      "Semaphore(undo: true)#wait+post" => Bench.looped(here, "undo.wait; undo.post"))
Bench.target(costs, "Semaphore(undo: true)#wait+post", "Semaphore#wait+post", 1.3)

Bench.compare("synchronize {} (uncontended)", "Semaphore#synchronize",
              "Semaphore#synchronize" => Bench.looped(here, "plain.synchronize {}"),
              "Semaphore(undo: true)#synchronize" => Bench.looped(here, "undo.synchronize {}"))
