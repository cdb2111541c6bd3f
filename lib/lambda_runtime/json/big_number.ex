defmodule LambdaRuntime.JSON.BigNumber do
  @moduledoc """
  A JSON number with a fraction or an exponent whose magnitude no float
  holds (beyond about ±1.8e308, e.g. `1e400`), kept as its text.

  RFC 8259 leaves the range of numbers to implementations, so such a
  document is valid JSON and Lambda accepts it. Python's `json` reads it as
  `inf` and Node's `JSON.parse` as `Infinity`, neither of which JSON can
  write back; an Erlang float has no infinity at all. `LambdaRuntime.JSON`
  therefore decodes it to this struct, and encodes the struct as the same
  text, so the event reaches the handler and round-trips unchanged:

      iex> LambdaRuntime.JSON.decode!(~s({"x":1e400}))
      %{"x" => %LambdaRuntime.JSON.BigNumber{text: "1e400"}}

      iex> LambdaRuntime.JSON.encode!(%{"x" => %LambdaRuntime.JSON.BigNumber{text: "-2.5E+999"}})
      ~s({"x":-2.5E+999})

  Encoding checks that `text` is a JSON number. Numbers too small for a
  float (`1e-400`) decode to `0.0`, as in Python and Node; integers of any
  size stay integers.
  """

  @enforce_keys [:text]
  defstruct [:text]

  @type t :: %__MODULE__{text: String.t()}
end
