# frozen_string_literal: true

require "yard"
require_relative "support/public_api"
require_relative "../rakelib/yard_typed_accessors" # as .yardopts loads it

# The YARD docs in lib/ must cover the API the extension and the shims really
# define: native methods are invisible to `yard stats`, which only counts
# what the docs themselves declare, so every public class, module, constant
# and method is looked up here. (`rake doc:check` runs yard itself, failing
# on any warning or undocumented object.)
RSpec.describe "the YARD documentation" do
  lib = File.expand_path("../lib", __dir__)

  before(:context) do
    YARD::Registry.clear
    YARD::Logger.instance.enter_level(Logger::ERROR) do
      # A glob, expanded as `yard doc` expands the one in .yardopts: the
      # order decides which comment wins when a class is reopened.
      YARD::Parser::SourceParser.parse(File.join(lib, "**/*.rb"))
    end
  end

  after(:context) { YARD::Registry.clear }

  def yard(path)
    YARD::Registry.at(path)
  end

  # The problems of one documented method, if any.
  def method_problems(object, method)
    return ["not documented"] unless object

    problems = []
    problems << "says nothing about what it does" if object.docstring.strip.empty?
    signatures = object.tags(:overload).empty? ? [object] : object.tags(:overload)
    signatures.each { |signature| problems.concat(signature_problems(object, signature)) }
    problems.concat(arity_problems(signatures, method))
  end

  # Every parameter has a @param with a type (a block: a @yield…), and the
  # method a @return with a type (but a constructor).
  def signature_problems(object, signature)
    problems = signature.parameters.filter_map { |name, _default| parameter_problem(object, signature, name) }
    return problems if object.constructor?

    returns = signature.tags(:return) + object.tags(:return)
    problems << "no @return" if returns.empty?
    problems << "no type for @return" if returns.any? { |tag| tag.types.to_a.empty? }
    problems
  end

  def parameter_problem(object, signature, name)
    if name.start_with?("&")
      yields = object.tags.map(&:tag_name) & %w[yield yieldparam yieldreturn]
      return yields.empty? ? "no @yield, @yieldparam or @yieldreturn for #{name}" : nil
    end

    bare = name.delete_prefix("**").delete_prefix("*")
    param = (signature.tags(:param) + object.tags(:param)).find { |tag| tag.name == bare }
    return "no @param for #{bare}" unless param

    "no type for @param #{bare}" if param.types.to_a.empty?
  end

  def arity_problems(signatures, method)
    PublicAPI.arity_problems(signatures.map { |signature| documented_arity(signature) }, method)
  end

  # Fewest and most positional arguments of a documented signature.
  def documented_arity(signature)
    positional = signature.parameters.reject { |name, _default| name.start_with?("&", "**") }
    required = positional.count { |name, default| !name.start_with?("*") && default.nil? }
    [required, positional.any? { |name, _default| name.start_with?("*") } ? nil : positional.size]
  end

  PublicAPI.namespaces.each do |namespace|
    describe namespace.name do
      it "is documented" do
        object = yard(namespace.name)
        expect(object).not_to be_nil
        expect(object.type).to eq(namespace.is_a?(Class) ? :class : :module)
        expect(object.docstring.strip).not_to be_empty
        expect(object.docstring).not_to include("rubocop:")
      end

      it "documents every public method: what it does, its parameters and its result" do
        problems = PublicAPI.instance_methods(namespace).to_h do |name|
          [name, method_problems(yard("#{namespace.name}##{name}"), namespace.instance_method(name))]
        end
        problems.merge!(PublicAPI.singleton_methods(namespace).to_h do |name|
          [:"self.#{name}", method_problems(yard("#{namespace.name}.#{name}"), namespace.method(name))]
        end)
        if namespace.is_a?(Class) && namespace.private_method_defined?(:initialize, false)
          problems[:initialize] = method_problems(yard("#{namespace.name}#initialize"),
                                                  namespace.instance_method(:initialize))
        end
        problems.reject! { |_name, found| found.empty? }
        report = problems.map { |name, found| "#{namespace}##{name}: #{found.join('; ')}" }
        expect(problems).to be_empty, report.join("\n")
      end

      next unless namespace.public_method_defined?(:closed?)

      it "says which methods raise ClosedError after close" do
        # Methods of objects with a `close` that never raise ClosedError.
        never = %i[close closed? initialize respond_to? memory new_cond inspect to_s]
        unsaid = (PublicAPI.instance_methods(namespace) - never).reject do |name|
          object = yard("#{namespace.name}##{name}")
          raised = object&.tags(:raise)&.flat_map { |tag| tag.types.to_a } || []
          object.nil? || raised.any? { |type| type.end_with?("ClosedError", "NotImplementedError") }
        end
        expect(unsaid).to be_empty, "#{namespace}: no @raise [ClosedError] for #{unsaid.join(', ')}"
      end
    end
  end

  it "documents every constant" do
    undocumented = PublicAPI.constants.reject do |namespace, name|
      yard("#{namespace.name}::#{name}")&.docstring&.strip&.empty? == false
    end
    expect(undocumented.map { |namespace, name| "#{namespace}::#{name}" }).to be_empty
  end

  it "gives examples for the main classes" do
    main = %w[ProcessShared ProcessShared::Semaphore ProcessShared::BinarySemaphore ProcessShared::Mutex
              ProcessShared::ConditionVariable ProcessShared::Monitor ProcessShared::MonitorMixin
              ProcessShared::SharedMemory ProcessShared::SharedArray ProcessShared::SharedMemoryIO]
    expect(main.reject { |path| yard(path).has_tag?(:example) }).to be_empty
  end
end
