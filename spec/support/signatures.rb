# frozen_string_literal: true

require "rbs"
require "rbs/test"
require "set"

# The signatures in sig/, loaded once per run (with Ruby's core signatures,
# which take a while), and checks of real calls against them.
module Signatures
  SIG_DIR = File.expand_path("../../sig", __dir__)

  module_function

  def env
    @env ||= begin
      loader = RBS::EnvironmentLoader.new
      loader.add(path: Pathname(SIG_DIR))
      RBS::Environment.from_loader(loader).resolve_type_names
    end
  end

  def builder
    @builder ||= RBS::DefinitionBuilder.new(env:)
  end

  def type_name(namespace)
    RBS::Namespace.parse("::#{namespace.name}").to_type_name
  end

  # Whether Ruby makes `method` (an RBS::Definition::Method of
  # `namespace`'s instances, or with `singleton` of `namespace` itself)
  # public. Read from the declaration rather than from the definition
  # builder, whose answer depends on the rbs version: `def self?.x` is a
  # module function, private on the instance side as `module_function`
  # makes it, but rbs 2.x builds it public there, rbs 3.x private.
  def public?(method, singleton:)
    return method.public? if singleton

    module_function = method.defs.any? do |type_def|
      type_def.member.is_a?(RBS::AST::Members::MethodDefinition) && type_def.member.kind == :singleton_instance
    end
    method.public? && !module_function
  end

  # The declared method `name` of `namespace`'s instances (or, with
  # `singleton`, of `namespace` itself); nil if there is none.
  def declared_method(namespace, name, singleton: false)
    name_in_rbs = type_name(namespace)
    definition = singleton ? builder.build_singleton(name_in_rbs) : builder.build_instance(name_in_rbs)
    definition.methods[name]
  end

  # Helpers for specs that call methods for real and check each call (its
  # arguments, what the block got and returned, and its result) against the
  # declared method types, the way `rbs test` does.
  module Calls
    # Calls `receiver.name(*args, &block)` and checks the call against the
    # signature of `type`'s instance method (default: the receiver's class),
    # or, with `singleton: true`, of the receiver's own method. With
    # `raises:`, the call must raise that exception (the arguments are still
    # checked). Returns the result; mismatches go to #signature_mismatches.
    def check(receiver, name, *args, raises: nil, **target, &block)
      block_calls = []
      spy = block && proc do |*yielded|
        block.call(*yielded).tap { |value| block_calls << returned(yielded, value) }
      end
      value, outcome = call(receiver, name, args, raises, &spy)
      verify_call(receiver, trace(name, outcome, block_calls:, block_given: !block.nil?), **target)
      value
    end

    # Checks a call that has happened (`trace`: an RBS::Test::CallTrace), as
    # #check does.
    def verify_call(receiver, trace, type: nil, singleton: false)
      type ||= singleton ? receiver : receiver.class
      name = trace.method_name
      checked_methods << [type, singleton, name]
      declared = Signatures.declared_method(type, name, singleton:)
      return signature_mismatches << "#{describe_call(type, singleton, name)}: not declared" unless declared

      errors = type_check(receiver, singleton).overloaded_call(declared, name, trace, errors: [])
      return if errors.empty?

      outcome = trace.method_call
      result = outcome.return? ? "returned #{outcome.return_value.inspect}" : "raised #{outcome.exception.class}"
      arguments = outcome.arguments.map(&:inspect).join(", ")
      signature_mismatches << "#{describe_call(type, singleton, name)}(#{arguments}) #{result}, " \
                              "which matches none of: #{declared.method_types.join(' | ')}"
    end

    # A call of `name` that ended with `outcome` (#returned or #raised).
    def trace(name, outcome, block_calls: [], block_given: false)
      RBS::Test::CallTrace.new(method_name: name, method_call: outcome, block_calls:, block_given:)
    end

    def returned(arguments, value)
      RBS::Test::ArgumentsReturn.return(arguments:, value:)
    end

    def raised(arguments, exception)
      RBS::Test::ArgumentsReturn.exception(arguments:, exception:)
    end

    def call(receiver, name, args, raises, &)
      value = receiver.public_send(name, *args, &)
      signature_mismatches << "#{receiver.inspect}.#{name} did not raise #{raises}" if raises
      [value, returned(args, value)]
    rescue StandardError, NotImplementedError => e
      raise unless raises && e.is_a?(raises)

      [nil, raised(args, e)]
    end

    def type_check(receiver, singleton)
      instance_class = singleton ? receiver : receiver.class
      RBS::Test::TypeCheck.new(self_class: singleton ? receiver.singleton_class : receiver.class,
                               builder: Signatures.builder, sample_size: 100, unchecked_classes: [],
                               instance_class:, class_class: instance_class.singleton_class)
    end

    def describe_call(type, singleton, name)
      "#{type}#{singleton ? '.' : '#'}#{name}"
    end

    def checked_methods
      @checked_methods ||= Set.new
    end

    def signature_mismatches
      @signature_mismatches ||= []
    end

    # The public methods of `namespace` (as PublicAPI lists them) that no
    # #check has called.
    def unchecked_methods(namespace)
      instance = PublicAPI.instance_methods(namespace).reject do |name|
        checked_methods.include?([namespace, false, name])
      end
      singleton = PublicAPI.singleton_methods(namespace).reject do |name|
        checked_methods.include?([namespace, true, name])
      end
      instance.map { |name| "##{name}" } + singleton.map { |name| ".#{name}" }
    end
  end
end
