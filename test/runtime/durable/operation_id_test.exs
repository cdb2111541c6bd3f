defmodule LambdaRuntime.Durable.OperationIdTest do
  use ExUnit.Case, async: true
  alias LambdaRuntime.Durable.OperationId

  # Reference values from Python's hashlib.blake2b, as the reference SDK
  # (aws-durable-execution-sdk-python, identifier.py) derives ids.
  @first "1ced8f5be2db23a6513eba4d819c73806424748a7bc6fa0d792cc1c7d1775a97"

  test "top-level operations are named by their position" do
    assert OperationId.derive(nil, 1) == @first

    assert OperationId.derive(nil, 2) ==
             "c5faca15ac2f93578b39ef4b6bbb871bdedce4ddd584fd31f0bb66fade3947e6"
  end

  test "operations inside a context are named PARENT-n; branches count from 0" do
    assert OperationId.derive(@first, 1) ==
             "974bfc6321e227b0ff101342eaf19b336f002dc6cc99c18f0941a7755cc20fc4"

    assert OperationId.derive(@first, 0) ==
             "1712f93e2f51df042e2b933907d75accfe34a48fe4a42a24e0b08131bc72d591"

    nested = OperationId.derive(OperationId.derive(@first, 1), 3)
    assert nested == "9e064d795c767f56e03abcce5ca2b74c7d45b51a7a93383a94ba925ba9ef4076"
  end
end
