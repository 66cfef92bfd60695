# frozen_string_literal: true

require_relative "typed_accessors"

namespace :generate do
  desc "Write the signatures and YARD docs of SharedMemory's typed accessors"
  task :typed_accessors do
    TypedAccessors.write
  end
end
