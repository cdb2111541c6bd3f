defmodule LambdaRuntime.AWS.Request do
  @moduledoc """
  One AWS API call before it is signed: the operation's name, method, path
  (segments already URI-encoded), query, JSON body, and a short summary of
  the body for `--dry-run` output (never the zip bytes).
  """

  defstruct [:operation, :method, :path, query: "", body: nil, summary: nil]

  @type t :: %__MODULE__{
          operation: String.t(),
          method: String.t(),
          path: String.t(),
          query: String.t(),
          body: map() | nil,
          summary: String.t() | nil
        }

  @doc "A one-line description: operation, method, path and body summary."
  @spec describe(t()) :: String.t()
  def describe(%__MODULE__{} = r) do
    query = if r.query == "", do: "", else: "?" <> r.query
    summary = if r.summary, do: "  " <> r.summary, else: ""
    "#{r.operation}: #{r.method} #{r.path}#{query}#{summary}"
  end

  @doc "Encodes one path segment (e.g. a function name or an ARN)."
  @spec segment(String.t()) :: String.t()
  def segment(value), do: URI.encode(value, &URI.char_unreserved?/1)
end
