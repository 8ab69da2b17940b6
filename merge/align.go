package merge

type AlignResult struct{}
