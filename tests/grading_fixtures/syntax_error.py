import minitorch as mt

class Linear(mt.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias)
        return x @ weight.T + bias
