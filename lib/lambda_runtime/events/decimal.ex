defmodule LambdaRuntime.Events.Decimal do
  @moduledoc """
  An exact decimal number, as DynamoDB streams carry them (`{"N": "59.90"}`):
  `sign * coef * 10^exp`, the fields the `decimal` package's `Decimal`
  has, so `Decimal.new(d.sign, d.coef, d.exp)` converts one. A float
  would round `0.1` and lose digits past 15-17; this keeps all of them.

      {:ok, d} = LambdaRuntime.Events.Decimal.parse("59.90")
      to_string(d)                               # "59.90"
      LambdaRuntime.Events.Decimal.to_float(d)   # 59.9

  It is encoded in JSON responses as its text (`"59.90"`), never rounded.
  """

  @enforce_keys [:sign, :coef, :exp]
  defstruct [:sign, :coef, :exp]

  @type t :: %__MODULE__{sign: 1 | -1, coef: non_neg_integer(), exp: integer()}

  @doc "Parses `\"-12.340\"`, `\"1E+5\"`, `\".5\"`: `{:ok, t}` or `:error`."
  @spec parse(String.t()) :: {:ok, t()} | :error
  def parse(text) when is_binary(text) do
    case Regex.run(~r/^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,6}))?$/, text) do
      [_, sign, int, frac | rest] when int != "" or frac != "" ->
        exp =
          case rest do
            [e] -> String.to_integer(e)
            [] -> 0
          end

        {:ok,
         %__MODULE__{
           sign: if(sign == "-", do: -1, else: 1),
           coef: String.to_integer(int <> frac),
           exp: exp - String.length(frac)
         }}

      _ ->
        :error
    end
  end

  def parse(_), do: :error

  @doc "The nearest float."
  @spec to_float(t()) :: float()
  def to_float(%__MODULE__{sign: sign, coef: coef, exp: exp}),
    do: sign * String.to_float("#{coef}.0e#{exp}")

  @doc "The decimal as text: plain digits (`\"59.90\"`) unless the exponent is large."
  @spec to_string(t()) :: String.t()
  def to_string(%__MODULE__{sign: sign, coef: coef, exp: exp}) do
    digits = Integer.to_string(coef)
    prefix = if sign == -1, do: "-", else: ""

    cond do
      exp >= 0 and exp <= 20 ->
        prefix <> digits <> String.duplicate("0", exp)

      exp < 0 and -exp < String.length(digits) ->
        {int, frac} = String.split_at(digits, String.length(digits) + exp)
        prefix <> int <> "." <> frac

      exp < 0 and -exp <= 40 ->
        prefix <> "0." <> String.duplicate("0", -exp - String.length(digits)) <> digits

      true ->
        prefix <> digits <> "E" <> if(exp > 0, do: "+", else: "") <> Integer.to_string(exp)
    end
  end

  @doc "True when `a` and `b` are the same number (`1.50` and `1.5` are)."
  @spec equal?(t(), t()) :: boolean()
  def equal?(%__MODULE__{} = a, %__MODULE__{} = b), do: normalize(a) == normalize(b)

  defp normalize(%__MODULE__{coef: 0}), do: {1, 0, 0}

  defp normalize(%__MODULE__{sign: s, coef: c, exp: e}) do
    if rem(c, 10) == 0,
      do: normalize(%__MODULE__{sign: s, coef: div(c, 10), exp: e + 1}),
      else: {s, c, e}
  end

  defimpl String.Chars do
    def to_string(d), do: LambdaRuntime.Events.Decimal.to_string(d)
  end

  defimpl Inspect do
    def inspect(d, _opts),
      do: "#LambdaRuntime.Events.Decimal<#{LambdaRuntime.Events.Decimal.to_string(d)}>"
  end

  defimpl LambdaRuntime.JSON.Encoder do
    def encode(d), do: LambdaRuntime.Events.Decimal.to_string(d)
  end
end
