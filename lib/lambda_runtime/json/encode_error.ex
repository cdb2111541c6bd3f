defmodule LambdaRuntime.JSON.EncodeError do
  @moduledoc """
  Raised (or returned) when a term has no JSON form. `reason` says why and
  `term` is the offending part of the input.
  """
  defexception [:reason, :term]

  @type reason ::
          :unsupported
          | :invalid_utf8
          | :invalid_key
          | :improper_list
          | :too_deep
          | :duplicate_key
          | :bad_number
  @type t :: %__MODULE__{reason: reason(), term: term()}

  @impl true
  def exception({reason, term}), do: %__MODULE__{reason: reason, term: term}
  def exception(fields) when is_list(fields), do: struct!(__MODULE__, fields)

  @impl true
  def message(%{reason: :too_deep, term: limit}),
    do: "cannot encode as JSON: nesting is deeper than #{limit} levels"

  def message(%{reason: :invalid_utf8, term: term}),
    do: "cannot encode #{shown(term)} as JSON: the binary is not valid UTF-8"

  def message(%{reason: :invalid_key, term: term}),
    do: "cannot encode map key #{shown(term)} as JSON: keys must be atoms, strings or integers"

  def message(%{reason: :duplicate_key, term: {key1, key2}}) do
    name = if is_binary(key2), do: key2, else: to_string(key1)

    "cannot encode a map with both keys #{shown(key1)} and #{shown(key2)} as JSON: " <>
      "both would be the object key #{shown(name)}; keep one of them"
  end

  def message(%{reason: :bad_number, term: term}),
    do: "cannot encode #{shown(term)} as JSON: its text is not a JSON number"

  def message(%{reason: :improper_list, term: term}),
    do: "cannot encode the improper list ending in #{shown(term)} as JSON"

  def message(%{reason: _, term: term}),
    do: "cannot encode #{shown(term)} as JSON: #{kind(term)} have no JSON form"

  defp kind(term) when is_pid(term), do: "pids"
  defp kind(term) when is_port(term), do: "ports"
  defp kind(term) when is_reference(term), do: "references"
  defp kind(term) when is_function(term), do: "functions"
  defp kind(term) when is_tuple(term), do: "tuples"
  defp kind(_), do: "values of this type"

  defp shown(term), do: inspect(term, limit: 5, printable_limit: 64)
end
