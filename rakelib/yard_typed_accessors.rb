# frozen_string_literal: true

require "yard"
require_relative "typed_accessors"

# The YARD directive `@!typed_accessors`, loaded by .yardopts (and by
# spec/documentation_spec.rb): written once in the body of SharedMemory, it
# documents every typed accessor of every type name of the extension's
# scalar table, one `@!group` per type name, with the texts of
# TypedAccessors::Docs. Nothing generated is checked in.
class TypedAccessorsDirective < YARD::Tags::Directive
  def call; end

  # Registers the methods as `@!method` directives would, each in its
  # type's group (a group directive applies to the objects registered
  # after it, so each method is parsed on its own).
  def after_parse
    return unless handler

    TypedAccessors::Docs.sections.each do |heading, directives|
      handler.extra_state.group = heading
      directives.each { |text| YARD::Docstring.parser.parse(text, object, handler) }
    end
    handler.extra_state.group = nil
  end
end

YARD::Tags::Library.define_directive(:typed_accessors, TypedAccessorsDirective)
