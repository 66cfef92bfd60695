# frozen_string_literal: true

namespace :generate do
  desc "Write the signatures of SharedMemory's typed accessors (from the compiled extension's type table)"
  task typed_accessors: :compile do
    require_relative "typed_accessors"
    TypedAccessors.write
  end
end

# The typed accessors' docs are made from the compiled extension's type
# table (rakelib/yard_typed_accessors.rb, loaded by .yardopts).
task doc: :compile
task "doc:check": :compile
