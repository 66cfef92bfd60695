# frozen_string_literal: true

# The public API as the loaded gem defines it, for the specs that check that
# the signatures (sig/) and the YARD docs (lib/) cover all of it.
module PublicAPI
  module_function

  # ProcessShared and every class and module named under it, outermost first.
  def namespaces(root = ProcessShared, found = [])
    found << root
    root.constants(false).sort.each do |name|
      value = root.const_get(name, false)
      next unless value.is_a?(Module) && value.name == "#{root.name}::#{name}"

      namespaces(value, found) unless found.include?(value)
    end
    found
  end

  # [namespace, constant name] of every constant that is not a module.
  def constants
    namespaces.flat_map do |namespace|
      namespace.constants(false).sort.reject { |name| namespace.const_get(name, false).is_a?(Module) }
               .map { |name| [namespace, name] }
    end
  end

  # Public instance methods that `namespace` itself defines (aliases too).
  def instance_methods(namespace)
    namespace.public_instance_methods(false).sort
  end

  # Public methods of `namespace` itself (`def self.x`, module functions).
  def singleton_methods(namespace)
    namespace.singleton_class.public_instance_methods(false).sort
  end

  # The fewest and the most positional arguments `method` accepts (the most
  # is nil when unbounded), and whether they are exact: a native method
  # that takes a variable number of arguments tells Ruby only "any".
  def arity_range(method)
    kinds = method.parameters.map(&:first)
    fewest = kinds.count(:req)
    most = kinds.include?(:rest) ? nil : fewest + kinds.count(:opt)
    exact = !(method.source_location.nil? && method.arity.negative?)
    [fewest, most, exact]
  end
end
